"""The S3 prefix check's leak under @handler: each invocation fails, `files` is restored."""

from lambdascope import handler

files = []


@handler
def lambda_handler(event, context):
    if "key" in event:
        files.append(event["key"])
    return len(files)
