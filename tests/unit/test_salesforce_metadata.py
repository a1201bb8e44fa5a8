"""The Salesforce metadata an admin deploys (crm/salesforce) matches what the intake reads: the
platform event's field, every custom field of the default mapping, the picklist values it maps."""

import xml.etree.ElementTree as ET
from pathlib import Path

from handoff.adapters.crm.mapping_file import load_mapping
from handoff.domain.crm_notifications import PLATFORM_EVENT_ID_FIELD

ROOT = Path(__file__).resolve().parents[2] / "crm" / "salesforce" / "force-app" / "main" / "default"
NS = {"md": "http://soap.sforce.com/2006/04/metadata"}


def custom_fields() -> dict[str, ET.Element]:
    return {f"{p.parent.parent.name}.{p.name.removesuffix('.field-meta.xml')}": ET.parse(p).getroot()
            for p in ROOT.glob("objects/*/fields/*.field-meta.xml")}


def test_the_flow_publishes_the_platform_event_the_intake_reads() -> None:
    flow = ET.parse(ROOT / "flows" / "Closed_Won_Handoff.flow-meta.xml").getroot()
    assert flow.findtext("md:recordCreates/md:object", namespaces=NS) == "Closed_Won_Handoff__e"
    fields = [a.findtext("md:field", namespaces=NS) for a in flow.findall("md:recordCreates/md:inputAssignments", NS)]
    assert PLATFORM_EVENT_ID_FIELD in fields and f"Closed_Won_Handoff__e.{PLATFORM_EVENT_ID_FIELD}" in custom_fields()
    assert flow.findtext("md:start/md:triggerType", namespaces=NS) == "RecordAfterSave"
    assert "Handoff_Integration" in flow.findtext("md:start/md:filterFormula", namespaces=NS)
    event = ET.parse(ROOT / "objects/Closed_Won_Handoff__e/Closed_Won_Handoff__e.object-meta.xml").getroot()
    assert event.findtext("md:publishBehavior", namespaces=NS) == "PublishAfterCommit"


def test_every_custom_field_of_the_default_mapping_is_shipped_with_the_values_it_maps() -> None:
    mapping = load_mapping("salesforce")
    shipped = custom_fields()
    relationship = {"Opportunity.Account": "Account", "Opportunity": "Opportunity", "Contract": "Contract"}
    for spec in mapping.fields.values():
        if not spec.source or not spec.source.endswith("__c"):
            continue
        obj, _, field = spec.source.rpartition(".")
        key = f"{relationship[obj]}.{field}"
        assert key in shipped, key
        if spec.values:
            values = {v.text for v in shipped[key].findall(".//md:value/md:fullName", NS)}
            assert values == set(spec.values), key
    for field in mapping.writeback.values():
        assert f"Opportunity.{field}" in shipped
