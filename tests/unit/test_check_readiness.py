"""What the deal owner reads when the playbook itself is the problem: a human message with the reason,
never the server's file path (str(PlaybookError) carries it, for operators' logs)."""

import shutil
from pathlib import Path

import pytest

from handoff.adapters.playbook_files import DEFAULT_DIRECTORY, load_playbook
from handoff.domain.playbooks import PlaybookError, UnknownServiceLine
from handoff.logic.validate_readiness import _blocked_by_playbook


def playbook_error(directory: Path, service_line: str) -> PlaybookError:
    with pytest.raises(PlaybookError) as raised:
        load_playbook(service_line, region="AMER", country="US", contract_type="fixed_fee", directory=directory)
    return raised.value


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    directory = tmp_path / "srv" / "handoff" / "playbooks"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    return directory


def test_an_unknown_service_line_tells_the_owner_the_choices(playbooks: Path) -> None:
    error = playbook_error(playbooks, "cloud-migration")
    assert isinstance(error, UnknownServiceLine) and str(playbooks) in str(error)
    [entry] = _blocked_by_playbook(error, "cloud-migration")
    assert (entry.code, entry.severity, entry.field) == ("UNKNOWN_PLAYBOOK", "BLOCKING", "opportunity.serviceLine")
    assert entry.message == ("No playbook for service line 'cloud-migration' (known: advisory, data-analytics, "
                             "erp-implementation, managed-services). Set the opportunity's service line to one of "
                             "these.")


def test_a_broken_playbook_says_what_is_wrong_and_that_the_deal_needs_no_change(playbooks: Path) -> None:
    advisory = playbooks / "advisory.yaml"
    advisory.write_text(advisory.read_text().replace("service_line: advisory", "service_line: advice"))
    error = playbook_error(playbooks, "advisory")
    assert not isinstance(error, UnknownServiceLine) and str(playbooks) in str(error)
    [entry] = _blocked_by_playbook(error, "advisory")
    assert entry.message == ("The 'advisory' playbook cannot be used (must be 'advisory', the file name (found "
                             "'advice') at service_line). Nothing needs to change on the deal: operations fix the "
                             "playbook and resubmit this handoff.")
    assert "/" not in entry.message and ".yaml" not in entry.message


def test_a_playbook_that_is_not_yaml_has_no_path_in_the_message(playbooks: Path) -> None:
    (playbooks / "advisory.yaml").write_text("service_line: [advisory\n")
    error = playbook_error(playbooks, "advisory")
    [entry] = _blocked_by_playbook(error, "advisory")
    assert entry.message == ("The 'advisory' playbook cannot be used (not valid YAML: while parsing a flow "
                             "sequence). Nothing needs to change on the deal: operations fix the playbook and "
                             "resubmit this handoff.")
