"""The first seed's leak under @handler: the guard fails each invocation and restores `files`."""

from lambdascope import handler

files = []


@handler
def lambda_handler(event, context):
    if "key" in event:
        files.append(event["key"])
    return len(files)
