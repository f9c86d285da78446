"""The progress bar the long-running commands draw on stderr (`rotate_keys`, `refresh_idp_metadata`)."""

BAR_WIDTH = 20


def progress_bar(done: int, total: int, label: str) -> str:
    """`[##########..........] 1200/2400 credential.secret`"""
    total = max(total, done)
    filled = BAR_WIDTH if total == 0 else BAR_WIDTH * done // total
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} {label}"
