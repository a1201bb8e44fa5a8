"""Which contract analyser runs: the deterministic offline one by default; Bedrock when configured."""

import os

from handoff.adapters.bedrock_analyser import analyser_from_config
from handoff.domain.intelligence import ContractAnalyser


def contract_analyser() -> ContractAnalyser:
    return analyser_from_config(os.environ.get("CONTRACT_ANALYSER", "offline") == "bedrock",
                                os.environ.get("BEDROCK_MODEL_ID") or None)
