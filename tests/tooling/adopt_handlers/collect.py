"""The first lesson's shape, undecorated: each request's files collected in a module-level list."""

files = []


def lambda_handler(event, context):
    for record in event.get("Records", []):
        files.append(record["s3"]["object"]["key"])
    return {"files": len(files)}


async def async_handler(event, context):
    files.extend(event.get("keys", []))
    return {"files": len(files)}
