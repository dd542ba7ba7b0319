"""Data-reading actions: the ones that return customer data, not configuration.

IAM's access levels put ``s3:GetObject`` and ``ec2:DescribeInstances`` in the same "Read"
bucket, which is why AWS's ReadOnlyAccess managed policy is not a safe "viewer" policy: next to
metadata it hands out object contents, table items, queue messages, log lines and parameter
values. This table names those actions so a grader can say which ones a policy grants.

Each entry was chosen by hand from the action's description in the AWS Service Authorization
Reference (the ``source`` page) and checked against the action catalog by the tests. The
test-suite also proves that ReadOnlyAccess grants many of them. Entries AWS's ReadOnlyAccess
does not grant (``kms:Decrypt``, ``secretsmanager:GetSecretValue``) are kept: a hand-written
viewer policy can still grant them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from grader.aws.iam.catalog import GrantedAction, Grants

DATA = "data"  # stored records, objects, messages, files
SECRET = "secret"  # values that are credentials or commonly hold them
CODE = "code"  # source, packages, container images
LOGS = "logs"  # log lines and workload output, which routinely leak data


@dataclass(frozen=True)
class DataRead:
    """One data-reading action, what it returns, and where that is documented."""

    action: str
    reads: str
    kind: str
    source: str


# Salesforce cloudsplaining's list of read-only actions that can leak data.
CLOUDSPLAINING = (
    "https://github.com/salesforce/cloudsplaining/blob/master/cloudsplaining/shared/"
    "constants.py (READ_ONLY_DATA_EXFILTRATION_ACTIONS)"
)


def _sar(page: str) -> str:
    """A service's page in the AWS Service Authorization Reference."""
    return f"https://docs.aws.amazon.com/service-authorization/latest/reference/list_{page}.html"


_S3 = _sar("amazons3")
_DDB = _sar("amazondynamodb")
_DAX = _sar("amazondynamodbacceleratordax")
_SSM = _sar("awssystemsmanager")
_LOGS = _sar("amazoncloudwatchlogs")
_LAMBDA = _sar("awslambda")
_CODECOMMIT = _sar("awscodecommit")
_ECR = _sar("amazonelasticcontainerregistry")
_KVS = _sar("amazonkinesisvideostreams")

DATA_READS: tuple[DataRead, ...] = (
    # --- Object storage ---------------------------------------------------------------
    DataRead("s3:GetObject", "the contents of S3 objects", DATA, CLOUDSPLAINING),
    DataRead("s3:GetObjectVersion", "older versions of S3 objects, even overwritten", DATA, _S3),
    DataRead("s3:GetObjectTorrent", "S3 object contents as a torrent", DATA, _S3),
    DataRead("s3:GetObjectVersionTorrent", "object versions as a torrent", DATA, _S3),
    DataRead(
        "s3:GetObjectVersionForReplication", "object contents, as replication reads them", DATA, _S3
    ),
    DataRead(
        "s3-object-lambda:GetObject",
        "object contents through an Object Lambda access point",
        DATA,
        _sar("amazons3objectlambda"),
    ),
    DataRead(
        "s3-object-lambda:GetObjectVersion",
        "object versions through an Object Lambda access point",
        DATA,
        _sar("amazons3objectlambda"),
    ),
    DataRead(
        "s3express:CreateSession",
        "a session that reads objects in S3 Express One Zone directory buckets",
        DATA,
        _sar("amazons3express"),
    ),
    DataRead(
        "glacier:GetJobOutput",
        "archives retrieved from S3 Glacier vaults",
        DATA,
        _sar("amazons3glacier"),
    ),
    DataRead(
        "ebs:GetSnapshotBlock",
        "raw disk blocks of EBS snapshots",
        DATA,
        _sar("amazonelasticblockstore"),
    ),
    DataRead(
        "elasticfilesystem:ClientMount",
        "files on an EFS file system (read-only mount)",
        DATA,
        _sar("amazonelasticfilesystem"),
    ),
    # --- Databases -------------------------------------------------------------------
    DataRead("dynamodb:GetItem", "DynamoDB items", DATA, _DDB),
    DataRead("dynamodb:BatchGetItem", "DynamoDB items, many at once", DATA, _DDB),
    DataRead("dynamodb:Query", "DynamoDB items by key", DATA, _DDB),
    DataRead("dynamodb:Scan", "every item of a DynamoDB table or index", DATA, _DDB),
    DataRead("dynamodb:PartiQLSelect", "DynamoDB items through PartiQL SELECT", DATA, _DDB),
    DataRead("dynamodb:GetRecords", "item images from DynamoDB Streams", DATA, _DDB),
    DataRead(
        "dynamodb:ExportTableToPointInTime", "a whole table, exported to an S3 bucket", DATA, _DDB
    ),
    DataRead("dax:GetItem", "DynamoDB items through a DAX cluster", DATA, _DAX),
    DataRead("dax:BatchGetItem", "DynamoDB items through a DAX cluster", DATA, _DAX),
    DataRead("dax:Query", "DynamoDB items through a DAX cluster", DATA, _DAX),
    DataRead("dax:Scan", "DynamoDB tables through a DAX cluster", DATA, _DAX),
    DataRead(
        "rds-data:ExecuteStatement",
        "rows of an Aurora database, by any SQL statement",
        DATA,
        _sar("amazonrdsdataapi"),
    ),
    DataRead(
        "redshift-data:GetStatementResult",
        "result rows of Redshift SQL statements",
        DATA,
        _sar("amazonredshiftdataapi"),
    ),
    DataRead("athena:GetQueryResults", "result rows of Athena queries", DATA, _sar("amazonathena")),
    DataRead(
        "athena:GetQueryResultsStream",
        "result rows of Athena queries, streamed",
        DATA,
        _sar("amazonathena"),
    ),
    DataRead(
        "cassandra:Select",
        "rows of Amazon Keyspaces tables",
        DATA,
        _sar("amazonkeyspacesforapachecassandra"),
    ),
    DataRead("timestream:Select", "Timestream records", DATA, _sar("amazontimestream")),
    DataRead("sdb:Select", "SimpleDB items", DATA, _sar("amazonsimpledb")),
    DataRead("sdb:GetAttributes", "SimpleDB item attributes", DATA, _sar("amazonsimpledb")),
    DataRead(
        "es:ESHttpGet",
        "documents and search results of OpenSearch domains",
        DATA,
        _sar("amazonopensearchservice"),
    ),
    DataRead(
        "sagemaker:GetRecord", "records of a SageMaker feature store", DATA, _sar("amazonsagemaker")
    ),
    DataRead(
        "sagemaker:BatchGetRecord",
        "records of a SageMaker feature store, many at once",
        DATA,
        _sar("amazonsagemaker"),
    ),
    DataRead("healthlake:ReadResource", "FHIR health records", DATA, _sar("awshealthlake")),
    DataRead(
        "healthlake:SearchWithGet", "FHIR health records, by search", DATA, _sar("awshealthlake")
    ),
    DataRead(
        "medical-imaging:GetImageFrame", "medical image pixel data", DATA, _sar("awshealthimaging")
    ),
    # --- Messages and streams ----------------------------------------------------------
    DataRead("sqs:ReceiveMessage", "SQS message bodies", DATA, _sar("amazonsqs")),
    DataRead(
        "kinesis:GetRecords",
        "records of a Kinesis data stream",
        DATA,
        _sar("amazonkinesisdatastreams"),
    ),
    DataRead(
        "kinesis:SubscribeToShard",
        "records of a Kinesis data stream, pushed",
        DATA,
        _sar("amazonkinesisdatastreams"),
    ),
    DataRead(
        "kafka-cluster:ReadData",
        "messages of MSK topics",
        DATA,
        _sar("apachekafkaapisforamazonmskclusters"),
    ),
    DataRead("kinesisvideo:GetMedia", "live video and audio", DATA, _KVS),
    DataRead("kinesisvideo:GetClip", "recorded video clips", DATA, _KVS),
    DataRead("kinesisvideo:GetImages", "still images from video streams", DATA, _KVS),
    DataRead(
        "kinesisvideo:GetHLSStreamingSessionURL", "a playback URL for video streams", DATA, _KVS
    ),
    DataRead("iot:GetRetainedMessage", "payloads of retained MQTT messages", DATA, _sar("awsiot")),
    DataRead(
        "iotanalytics:GetDatasetContent",
        "the contents of IoT Analytics data sets",
        DATA,
        _sar("awsiotanalytics"),
    ),
    DataRead(
        "workmailmessageflow:GetRawMessageContent",
        "the full content of email messages in transit",
        DATA,
        _sar("amazonworkmailmessageflow"),
    ),
    DataRead(
        "states:GetExecutionHistory",
        "input and output payloads of Step Functions executions",
        DATA,
        _sar("awsstepfunctions"),
    ),
    DataRead(
        "states:DescribeExecution",
        "input and output of a Step Functions execution",
        DATA,
        _sar("awsstepfunctions"),
    ),
    # --- People ----------------------------------------------------------------------
    DataRead(
        "cognito-idp:ListUsers",
        "users' attributes (e-mail, phone) in a user pool",
        DATA,
        _sar("amazoncognitouserpools"),
    ),
    DataRead(
        "cognito-idp:AdminGetUser",
        "a user's attributes in a user pool",
        DATA,
        _sar("amazoncognitouserpools"),
    ),
    DataRead(
        "cognito-sync:ListRecords",
        "per-user data sets of Cognito Sync",
        DATA,
        _sar("amazoncognitosync"),
    ),
    DataRead(
        "bedrock-agentcore:RetrieveMemoryRecords",
        "what an agent remembers of its conversations",
        DATA,
        _sar("amazonbedrockagentcore"),
    ),
    DataRead(
        "bedrock-agentcore:GetMemoryRecord",
        "one record of an agent's memory",
        DATA,
        _sar("amazonbedrockagentcore"),
    ),
    DataRead(
        "bedrock-agentcore:GetEvent",
        "a conversation event stored in agent memory",
        DATA,
        _sar("amazonbedrockagentcore"),
    ),
    # --- Secrets -------------------------------------------------------------------
    DataRead("secretsmanager:GetSecretValue", "secret values", SECRET, CLOUDSPLAINING),
    DataRead(
        "secretsmanager:BatchGetSecretValue",
        "secret values, many at once",
        SECRET,
        _sar("awssecretsmanager"),
    ),
    DataRead(
        "ssm:GetParameter", "Parameter Store values, SecureStrings too", SECRET, CLOUDSPLAINING
    ),
    DataRead("ssm:GetParameters", "Parameter Store values, many at once", SECRET, CLOUDSPLAINING),
    DataRead(
        "ssm:GetParametersByPath", "every parameter value under a path", SECRET, CLOUDSPLAINING
    ),
    DataRead("ssm:GetParameterHistory", "past values of parameters", SECRET, _SSM),
    DataRead(
        "kms:Decrypt",
        "plaintext of anything encrypted under a KMS key",
        SECRET,
        _sar("awskeymanagementservice"),
    ),
    DataRead(
        "lambda:GetFunctionConfiguration",
        "a function's environment variables, which often hold secrets",
        SECRET,
        _LAMBDA,
    ),
    # --- Code and images ------------------------------------------------------------
    DataRead(
        "lambda:GetFunction",
        "a download link to a function's code (and its settings)",
        CODE,
        _LAMBDA,
    ),
    DataRead("lambda:GetLayerVersion", "a download link to a layer's code", CODE, _LAMBDA),
    DataRead("codecommit:GetFile", "files of a CodeCommit repository", CODE, _CODECOMMIT),
    DataRead("codecommit:GetBlob", "file contents of a CodeCommit repository", CODE, _CODECOMMIT),
    DataRead("codecommit:GitPull", "a clone of a CodeCommit repository", CODE, _CODECOMMIT),
    DataRead("ecr:GetDownloadUrlForLayer", "download links to container image layers", CODE, _ECR),
    DataRead("ecr:BatchGetImage", "container image manifests, to pull images", CODE, _ECR),
    DataRead(
        "codeartifact:ReadFromRepository",
        "packages of a CodeArtifact repository",
        CODE,
        _sar("awscodeartifact"),
    ),
    DataRead(
        "codeartifact:GetPackageVersionAsset",
        "files of a package version",
        CODE,
        _sar("awscodeartifact"),
    ),
    # --- Logs and workload output --------------------------------------------------
    DataRead("logs:GetLogEvents", "log lines of a log stream", LOGS, _LOGS),
    DataRead("logs:FilterLogEvents", "log lines matching a filter, across streams", LOGS, _LOGS),
    DataRead("logs:StartQuery", "log lines, through a Logs Insights query", LOGS, _LOGS),
    DataRead("logs:GetQueryResults", "results of Logs Insights queries", LOGS, _LOGS),
    DataRead("logs:GetLogRecord", "one full log record", LOGS, _LOGS),
    DataRead("logs:StartLiveTail", "log lines as they arrive", LOGS, _LOGS),
    DataRead("logs:Unmask", "log fields that data protection had masked", LOGS, _LOGS),
    DataRead("ssm:GetCommandInvocation", "output of commands run on instances", LOGS, _SSM),
    DataRead("ec2:GetConsoleOutput", "an instance's console output", LOGS, _sar("amazonec2")),
    DataRead(
        "rds:DownloadDBLogFilePortion",
        "database log files, which can hold query text",
        LOGS,
        _sar("amazonrds"),
    ),
    DataRead(
        "rds:DownloadCompleteDBLogFile",
        "whole database log files, which can hold query text",
        LOGS,
        _sar("amazonrds"),
    ),
)

# casefolded action -> entry, since IAM action names are case-insensitive
DATA_READ_INDEX: Mapping[str, DataRead] = MappingProxyType(
    {entry.action.casefold(): entry for entry in DATA_READS}
)


def data_read(action: str) -> DataRead | None:
    """The table entry for ``action`` (any case), or None when it is not a data read."""
    return DATA_READ_INDEX.get(action.casefold())


def data_read_actions(grants: Grants) -> list[tuple[DataRead, GrantedAction]]:
    """The data reads a policy grants, with how (conditional, resource-limited), by action.

    The grant is returned alongside so a check can decide whether, say, a data read limited
    to one bucket is acceptable for the duty at hand.
    """
    found = []
    for entry in DATA_READS:
        grant = grants.get(entry.action)
        if grant is not None:
            found.append((entry, grant))
    return sorted(found, key=lambda pair: pair[0].action)
