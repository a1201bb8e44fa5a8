"""Which contract analyser runs: the deterministic offline one by default; Bedrock when configured."""


from handoff.adapters.bedrock_analyser import analyser_from_config
from handoff.domain.intelligence import ContractAnalyser
from handoff.settings import settings


def contract_analyser() -> ContractAnalyser:
    return analyser_from_config(settings().contract_analyser == "bedrock",
                                settings().bedrock_model_id or None)
