def strip_trailing_slashes(result, generator, request, public):
    """The routes accept both spellings; the schema documents the one the reference documents use."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result
