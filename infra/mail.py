"""Email as SES has it on a new account: the sender identity, a configuration set whose bounces
and complaints go to an encrypted SNS topic, and the MailFeedback function subscribed to it.

Context: `mailFrom` (the From address); `sesIdentity`, the verified SES identity it sends as (an
address, or a domain; default the mailFrom address); `sesCreateDomainIdentity: true` makes the
stack create `sesIdentity` as a domain identity with Easy DKIM (its three CNAME records are stack
outputs). Otherwise the identity must already be verified in the account and region: the stack
creates nothing for it."""

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from email_validator import EmailNotValidError, validate_email

from infra.configuration import ContextError, context_flag


def _address(key: str, value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ContextError(key, f"{value!r} is not an email address: {exc}") from None


class Mail(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        ctx = self.node.try_get_context
        self.mail_from = _address("mailFrom", str(ctx("mailFrom") or "handoffs@example.com"))
        self.identity = str(ctx("sesIdentity") or self.mail_from).strip()
        domain = self.mail_from.rpartition("@")[2]
        if "@" in self.identity:
            if _address("sesIdentity", self.identity) != self.mail_from:
                raise ContextError("sesIdentity", f"the address identity {self.identity} is not mailFrom ({self.mail_from})")
        elif not (domain == self.identity.lower() or domain.endswith("." + self.identity.lower())):
            raise ContextError("sesIdentity", f"mailFrom {self.mail_from} is not in the domain {self.identity}")
        create = context_flag(self, "sesCreateDomainIdentity", False)
        if create and "@" in self.identity:
            raise ContextError("sesCreateDomainIdentity", "the stack creates domain identities only; sesIdentity is "
                                                          f"the address {self.identity} (verify it in SES instead)")

        # SES publishes to an encrypted topic only with a customer managed key it may use.
        self.key = kms.Key(self, "FeedbackKey", enable_key_rotation=True,
                           description="Encrypts SES bounce and complaint notifications")
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("ses.amazonaws.com")],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        ))
        self.topic = sns.Topic(self, "FeedbackTopic", display_name="SES bounces and complaints",
                               master_key=self.key, enforce_ssl=True)
        self.configuration_set = ses.ConfigurationSet(self, "ConfigurationSet", reputation_metrics=True)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("ses.amazonaws.com")], actions=["sns:Publish"],
            resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        ))
        self.configuration_set.add_event_destination(
            "BouncesAndComplaints", destination=ses.EventDestination.sns_topic(self.topic),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT])

        if create:
            identity = ses.EmailIdentity(self, "DomainIdentity", identity=ses.Identity.domain(self.identity),
                                         dkim_identity=ses.DkimIdentity.easy_dkim(
                                             ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
                                         dkim_signing=True,
                                         configuration_set=self.configuration_set)
            for n, (name, value) in enumerate(((identity.dkim_dns_token_name1, identity.dkim_dns_token_value1),
                                               (identity.dkim_dns_token_name2, identity.dkim_dns_token_value2),
                                               (identity.dkim_dns_token_name3, identity.dkim_dns_token_value3)), 1):
                CfnOutput(stack, f"DkimRecord{n}", value=f"{name} CNAME {value}",
                          description=f"Easy DKIM: DNS record {n} of 3 to add to {self.identity}")
        self.environment = {"MAIL_FROM": self.mail_from, "SES_IDENTITY": self.identity,
                            "SES_CONFIGURATION_SET": self.configuration_set.configuration_set_name}

    def grant_send(self, function: lambda_.Function) -> None:
        """SES authorizes a send on the identity and on the configuration set it names."""
        stack = Stack.of(self)
        function.add_to_role_policy(iam.PolicyStatement(
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resources=[stack.format_arn(service="ses", resource="identity", resource_name=self.identity),
                       stack.format_arn(service="ses", resource="configuration-set",
                                        resource_name=self.configuration_set.configuration_set_name)],
        ))

    def subscribe(self, function: lambda_.Function) -> None:
        self.topic.add_subscription(subscriptions.LambdaSubscription(function))
