"""Checkpoints on the Hugging Face Hub: push them, load them back. CLI: `python -m aedemo.hub push ...`.

    python -m aedemo.hub push --variant vae --repo-id user/aedemo-vae     # checkpoints/vae at the repo root
    python -m aedemo.hub push --all --repo-id user/aedemo                 # every checkpoint, one subfolder each
    python -m aedemo.hub push --folder checkpoints/vae-run --repo-id user/my-vae --dry-run
    python -m aedemo.hub push --variant vae --repo-id user/aedemo-vae --create-pr       # or --branch dev (existing)

Each push is one commit (HfApi.create_commit) of model.safetensors, config.json, metrics.json, grid.png (test
digits, reconstructions, samples, drawn by the model) and a README.md model card (aedemo.card). The token comes
from --token, else env HF_TOKEN, else the cached `hf auth login`; it is never printed, logged or stored.

Why `--all` makes one repo with a subfolder per variant rather than one repo each:
- one commit holds the whole set, so a revision pins the eight autoencoders, PCA and the classifier that scores the
  CVAE's samples, all trained and evaluated together: they cannot drift apart;
- the Space needs one id (AEDEMO_HUB_REPO) and `load_model(repo, subfolder=variant)` for each model;
- one place to make private, gate, or delete.
The Hub reads card metadata only from the root README.md, so `--all` also writes a root index card carrying
every variant's tag and test figures; each subfolder keeps its own full card. A single checkpoint (`--variant`,
`--folder`, or the Space's Train tab) goes to the repo root unless `--subfolder` is given.

Loading is `aedemo.load_model("user/name", subfolder=..., revision=..., token=...)`: snapshot_download of just
the aedemo files through the huggingface_hub cache (so it works offline from the cache, HF_HUB_OFFLINE=1), then
the same loader as a local folder. Every failure is a HubError (a CheckpointError) with one clear message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import (
    CommitOperationAdd,
    HfApi,
    constants,
    get_cached_repo_tree,
    get_token,
    set_client_factory,
    snapshot_download,
)
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    HTTPError,
    LocalEntryNotFoundError,
    LocalTokenNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from .checkpoint import (
    CONFIG_NAME,
    METRICS_NAME,
    WEIGHTS_NAME,
    CheckpointError,
    checkpoints_root,
    json_text,
    load_checkpoint,
    read_config,
    read_metrics,
)
from .data import DataError, DataNotFoundError
from .devices import resolve_device
from .models import MODEL_CLASSES, Model

AEDEMO_FILES = (WEIGHTS_NAME, CONFIG_NAME, METRICS_NAME)  # what loading needs; cards and pictures stay behind
ALL_NAMES = tuple(MODEL_CLASSES)  # every checkpoint folder aedemo ships: the variants, then the classifier
MIN_TOKEN_CHARS = 8  # shorter text is never a token, nor a part of one worth masking
LOGIN_HINT = "pass a token (--token / token=...), set HF_TOKEN, or log in with `hf auth login`"


class HubError(CheckpointError):
    """A push or a Hub load that failed; the message says what went wrong and what to do."""


class HubConnectionError(HubError):
    """The Hub could not be reached (and, when loading, the cache had no copy): a caller may fall back."""


def scrub_token(message: str, token: str | bool | None) -> str:
    """`message` with `token` masked: our messages never include it; this guards text passed on from the library
    or the server. A few characters are no token (Hugging Face's are 37): masking every "h" of a message garbled
    it."""
    return message.replace(token, "***") if isinstance(token, str) and len(token) >= MIN_TOKEN_CHARS else message


def _has_token(token: str | bool | None) -> bool:
    return bool(token) if token is not None else get_token() is not None


def check_repo_id(repo_id: str) -> None:
    """Raise HubError unless `repo_id` is a well-formed 'user/name' Hub model id."""
    reason = None
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        reason = "a Hub repo id is 'user/name' (or 'org/name'): exactly one '/'"
    else:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as e:
            reason = str(e)
    if reason:
        raise HubError(f"{repo_id!r} is not a valid Hub repo id: {reason}")


def _clean_subfolder(subfolder: str | None) -> str:
    """'' for the repo root, else 'a/b' (no leading or trailing '/'); refuses paths that climb out."""
    if not subfolder:
        return ""
    parts = subfolder.replace("\\", "/").strip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise HubError(f"subfolder {subfolder!r} is not a plain folder path inside the repo (like 'vae')")
    return "/".join(parts)


def _where(repo_id: str, subfolder: str, revision: str | None) -> str:
    where = repo_id + (f" (subfolder {subfolder!r})" if subfolder else "")
    return where + (f" at revision {revision!r}" if revision else "")


# --- loading -------------------------------------------------------------------------------------------
def _cached_listing(repo_id: str, revision: str | None, cache_dir: str | Path | None) -> list[str] | None:
    """The repo's files as snapshot_download listed them online and cached the list (no network); None: unknown."""
    try:
        return [f.path for f in get_cached_repo_tree(repo_id, revision=revision, cache_dir=cache_dir)]
    except Exception:  # no listing cached (never loaded online, or a huggingface_hub that keeps none)
        return None


def use_hub_timeouts(connect: float = 10, read: float = 60) -> None:
    """Give up on a Hub request that cannot connect within `connect` seconds, or waits `read` seconds for the next
    bytes (a transfer that keeps moving takes as long as it needs), as HubConnectionError.

    huggingface_hub's client waits forever by default: a Hub or proxy that accepts the connection and never answers
    held the Space's start-up (AEDEMO_HUB_REPO) and every push for good. Process-wide, as huggingface_hub's one
    client is: the app and `python -m aedemo.hub` call this; a library user decides for their own process."""
    try:  # the client huggingface_hub builds (its offline-mode check, request ids), with a hook added
        from huggingface_hub.utils._http import default_client_factory
    except ImportError:  # a huggingface_hub that moved it: its own client, as it comes
        return
    bounds = {"connect": connect, "read": read, "write": read, "pool": connect}

    def bounded(request) -> None:
        # a request hook, as huggingface_hub passes timeout=None explicitly (repo_info, say), which the client's
        # own default would not override; a timeout it sets stays
        given = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {k: v if given.get(k) is None else given[k] for k, v in bounds.items()}

    def client_with_timeouts():
        client = default_client_factory()
        client.event_hooks["request"].append(bounded)
        return client

    set_client_factory(client_with_timeouts)


_REFUSED_TOKEN = "(401: invalid or expired)"  # what the Hub's 401 means, wherever it answers one


def _status(error: HfHubHTTPError) -> int | str:
    """The HTTP status the Hub answered with, "?" when the error carries no response."""
    return error.response.status_code if error.response is not None else "?"


def _api(token: str | bool | None) -> HfApi:
    """The Hub's client, naming aedemo in its user agent."""
    from . import __version__

    return HfApi(token=token, library_name="aedemo", library_version=__version__)


def _answered(error: HfHubHTTPError, repo_id: str, where: str, token: str | bool | None) -> HubError:
    """The HubError for an error the Hub answered a download with (not one of the kinds named above)."""
    status = _status(error)
    if status == 401:
        msg = f"the Hub refused the token for {repo_id} {_REFUSED_TOKEN}; {LOGIN_HINT}"
    elif status == 403:
        msg = f"the Hub answered 403 for {where}: the token used may not read it; {LOGIN_HINT} (with access to it)"
    else:
        msg = f"the Hub answered {status} for {where}; try again later"
    return HubError(scrub_token(msg, token))


def _not_cached(where: str, local_files_only: bool, cache_dir: str | Path | None) -> HubConnectionError:
    """The error for a checkpoint the Hub could not be asked for and the cache does not hold whole."""
    if local_files_only or constants.HF_HUB_OFFLINE:
        why = "offline mode is on (HF_HUB_OFFLINE=1 or local_files_only)"
    else:
        why = "the Hub cannot be reached (no network?)"
    return HubConnectionError(
        f"cannot load {where}: {why}, and the Hugging Face cache ({cache_dir or constants.HF_HUB_CACHE}) holds no "
        "complete copy of it; load it once with network access"
    )


def download_checkpoint(
    repo_id: str,
    *,
    subfolder: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool = False,
    force_download: bool = False,
) -> Path:
    """Fetch a checkpoint's files through the huggingface_hub cache; returns the local checkpoint folder."""
    check_repo_id(repo_id)
    sub = _clean_subfolder(subfolder)
    where = _where(repo_id, sub, revision)
    prefix = f"{sub}/" if sub else ""
    from . import __version__

    try:
        snapshot = snapshot_download(
            repo_id, revision=revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only,
            force_download=force_download,
            allow_patterns=[prefix + name for name in AEDEMO_FILES], library_name="aedemo",
            library_version=__version__,
        )
    except GatedRepoError:
        raise HubError(
            f"{repo_id} is a gated repo: ask for access on {constants.ENDPOINT}/{repo_id}, then {LOGIN_HINT}"
        ) from None
    except RepositoryNotFoundError:
        if _has_token(token):
            why = "or it is private and the token used has no access to it"
        else:
            why = f"or it is private and no token was given ({LOGIN_HINT})"
        raise HubError(f"Hub repo {repo_id} not found (nor a local folder of that name): check the id, {why}") from None
    except RevisionNotFoundError:
        raise HubError(f"{repo_id} has no revision {revision!r} (a branch, tag or commit hash)") from None
    except LocalTokenNotFoundError:
        raise HubError(f"token=True asks for a saved login, and there is none: {LOGIN_HINT}") from None
    except LocalEntryNotFoundError as e:
        if isinstance(e.__cause__, HfHubHTTPError):  # the Hub answered with an error, and nothing is cached
            raise _answered(e.__cause__, repo_id, where, token) from None
        raise _not_cached(where, local_files_only, cache_dir) from None
    except HfHubHTTPError as e:
        raise _answered(e, repo_id, where, token) from None
    except (HTTPError, OSError) as e:  # proxy errors and other transport failures snapshot_download lets through
        message = f"cannot reach the Hub for {where}: {type(e).__name__}: {e}"
        raise HubConnectionError(scrub_token(message, token)) from None

    folder = Path(snapshot) / sub if sub else Path(snapshot)
    missing = [name for name in (CONFIG_NAME, WEIGHTS_NAME) if not (folder / name).is_file()]
    if missing:
        listing = _cached_listing(repo_id, revision, cache_dir)
        if listing is None:
            # the Hub not asked (offline mode) or not reached (no network, a 5xx), and without the repo's listing:
            # snapshot_download returns the cached snapshot as it is, which may hold another subfolder's checkpoint
            # only while the Hub has this one. (Online it caches the listing, and a file it lacks is the repo's.)
            raise _not_cached(where, local_files_only, cache_dir)
        found = sorted(path.rsplit("/", 1)[0] for path in listing if path.endswith("/" + CONFIG_NAME))
        hint = f"; its checkpoints are in subfolders: pass subfolder= one of {found}" if found else ""
        raise HubError(
            f"{where} holds no aedemo checkpoint ({' and '.join(missing)} missing; an aedemo checkpoint is "
            f"{', '.join(AEDEMO_FILES)}){hint}"
        )
    return folder


def load_from_hub(repo_id: str, device: str | torch.device = "cpu", **hub_kwargs: Any) -> Model:
    """Download (or find in the cache) a Hub checkpoint and load it like a local folder."""
    resolve_device(device)  # a device this machine lacks is refused before the download, not after
    folder = download_checkpoint(repo_id, **hub_kwargs)
    try:
        return load_checkpoint(folder, device=device)
    except CheckpointError as e:
        where = _where(repo_id, _clean_subfolder(hub_kwargs.get("subfolder")), hub_kwargs.get("revision"))
        raise CheckpointError(f"{where}: {e}") from None


# --- pushing -------------------------------------------------------------------------------------------
def checkpoint_operations(
    folder: str | Path, repo_id: str, subfolder: str | None = None, revision: str = constants.DEFAULT_REVISION
) -> tuple[list[CommitOperationAdd], dict, dict]:
    """The files one checkpoint adds to a commit (weights, config, metrics, grid, card), and its config/metrics;
    the card links to the files at `revision`, the branch the commit goes to.

    The folder is loaded first: a checkpoint that does not load is never pushed.
    """
    from .card import GRID_NAME, grid_png, model_card, public_command  # pushes only: loads skip torchvision

    folder = Path(folder)
    model = load_checkpoint(folder)
    config, metrics = read_config(folder), read_metrics(folder)
    sub = _clean_subfolder(subfolder)
    prefix = f"{sub}/" if sub else ""
    png, caption = grid_png(model)
    files = {name: (folder / name).read_bytes() for name in AEDEMO_FILES if (folder / name).is_file()}
    if metrics.get("training", {}).get("command"):  # as the card shows it: no local folders, the run's precision
        training = {**metrics["training"], "command": public_command(metrics["training"])}
        metrics = {**metrics, "training": training}
        files[METRICS_NAME] = json_text(metrics).encode()
    card = model_card(config, metrics, repo_id, sub or None, caption, revision)
    files[GRID_NAME] = png
    files["README.md"] = str(card).encode()
    return [CommitOperationAdd(prefix + name, data) for name, data in files.items()], config, metrics


def describe(operations: list[CommitOperationAdd]) -> str:
    """One line per file of a commit: path, size, SHA-256 (what --dry-run prints)."""
    width = max(len(op.path_in_repo) for op in operations)
    return "\n".join(
        f"add {op.path_in_repo:<{width}}  {op.upload_info.size:>9} bytes  sha256 {op.upload_info.sha256.hex()}"
        for op in operations
    )


def _push_token(token: str | bool | None) -> str:
    """The token to push with, checked before any work is done.

    Only None falls back to HF_TOKEN / the cached login: a string, even empty, is the caller's choice. So the
    Space passes the visitor's (maybe empty) field and never pushes with its own HF_TOKEN secret.
    """
    if token is None or token is True:  # True: huggingface_hub's "the saved login", which must exist
        token = get_token()
    if not token:
        raise HubError(f"no Hugging Face token to push with: {LOGIN_HINT} (a token with write access)")
    if isinstance(token, str) and (not token.isascii() or any(c.isspace() for c in token)):
        # a "…" pasted with it gave httpx's UnicodeEncodeError traceback
        raise HubError("the token holds characters no Hugging Face token has (a space, or a pasted '…'): copy it "
                       "again from huggingface.co/settings/tokens")
    return token


def owner_repo_id(name: str, token: str | bool | None = None) -> str:
    """'owner/name' for a bare repo `name`, the owner being the token's: where PyTorchModelHubMixin's push to a bare
    name lands (create_repo puts it there). aedemo needs the whole id before pushing: the model card names it."""
    try:
        validate_repo_id(name)
    except HFValidationError as e:
        raise HubError(f"cannot push to a repo named {name!r} ({e}): pass repo_id='user/name'") from None
    token = _push_token(token)
    try:
        owner = _api(token).whoami()["name"]
    except HfHubHTTPError as e:
        status = _status(e)
        why = f"refused the token {_REFUSED_TOKEN}" if status == 401 else f"answered {status}"
        raise HubError(scrub_token(f"the Hub {why} when asked whose token it is, to push {name}; {LOGIN_HINT}, "
                                   "or pass repo_id='user/name'", token)) from None
    except (HTTPError, OSError) as e:
        raise HubConnectionError(scrub_token(f"cannot reach the Hub to learn whose token it is, to push {name} "
                                             f"({type(e).__name__}): check the network connection", token)) from None
    return f"{owner}/{name}"


def _card_revision(branch: str | None, create_pr: bool | None) -> str:
    """The revision a pushed card links its files at: the branch pushed to; main for a new pull request (whose ref
    is not known before it opens, and which shows main's files once merged) and for a push to a pull request's
    ref, refs/pr/N, which a merge leaves behind."""
    if create_pr or not branch or branch.startswith("refs/pr/"):
        return constants.DEFAULT_REVISION
    return branch


def _check_target(branch: str | None, create_pr: bool | None) -> None:
    """Refuse a pull request onto another branch than main, before any work is done.

    PyTorchModelHubMixin.push_to_hub (through upload_folder) refuses it too: its pull requests always go to the
    default branch. A push to an existing pull request is branch="refs/pr/N" without create_pr.
    """
    if create_pr and branch not in (None, constants.DEFAULT_REVISION):
        raise HubError(f"create_pr opens a pull request against {constants.DEFAULT_REVISION!r}, as "
                       f"PyTorchModelHubMixin.push_to_hub does, not against branch {branch!r}: leave branch unset "
                       "to open one, or push to the branch itself without create_pr")


def _commit(
    repo_id: str, operations: list[CommitOperationAdd], message: str, token: str, private: bool,
    branch: str | None = None, create_pr: bool | None = False,
) -> str:
    """Create the repo if needed and upload `operations` as one commit to `branch` (None: main), or as a pull
    request when `create_pr`; returns the commit URL, or the pull request's URL."""
    api = _api(token)
    try:
        # private=None (not False) for an existing repo: pushing never makes a private repo public
        api.create_repo(repo_id, private=private or None, exist_ok=True)
        info = api.create_commit(repo_id, operations, commit_message=message, revision=branch,
                                 create_pr=bool(create_pr))
    except RevisionNotFoundError:
        # the mixin's push_to_hub does not create a missing branch either: a typo would otherwise start a new one
        branch = branch or constants.DEFAULT_REVISION
        if branch.startswith("refs/pr/"):  # a pull request's ref is no branch to create
            raise HubError(f"{repo_id} has no open pull request {branch!r}: open one with create_pr=True "
                           "(--create-pr), then push to its ref") from None
        raise HubError(
            f"{repo_id} has no branch {branch!r}: create it first (`hf repos branch create {repo_id} {branch}`, or "
            "HfApi().create_branch), then push again"
        ) from None
    except HfHubHTTPError as e:
        status = _status(e)
        if status == 401:
            msg = f"the Hub refused the token {_REFUSED_TOKEN}; {LOGIN_HINT}"
        elif status == 403 or isinstance(e, RepositoryNotFoundError):
            msg = (f"the token may not write to {repo_id} ({status}): use a token with write access to that "
                   "user or organisation")
        else:
            msg = f"the Hub answered {status} while pushing to {repo_id}: {e.server_message or 'try again later'}"
        raise HubError(scrub_token(msg, token)) from None
    except (HTTPError, OSError) as e:
        if isinstance(e, OfflineModeIsEnabled):  # "check the network connection" sent one looking elsewhere
            message = f"cannot push {repo_id}: offline mode is on (HF_HUB_OFFLINE=1); unset it to push"
        else:
            message = (f"cannot reach the Hub to push {repo_id} ({type(e).__name__}): check the network connection "
                       "and try again")
        raise HubConnectionError(scrub_token(message, token)) from None
    # a pull request's page, not its commit's: where the reviewer goes (none when nothing changed: no PR is opened)
    return info.pr_url if create_pr and info.pr_url else info.commit_url


def push_checkpoint(
    folder: str | Path,
    repo_id: str,
    token: str | bool | None = None,
    private: bool = False,
    subfolder: str | None = None,
    dry_run: bool = False,
    commit_message: str | None = None,
    *,
    branch: str | None = None,
    create_pr: bool | None = False,
) -> str:
    """Push one checkpoint folder as one commit; returns the commit URL (dry run: the files it would send).
    `commit_message` replaces the default, "aedemo: upload the <variant> checkpoint".

    `token=None` (or True) means HF_TOKEN or the cached login; a string (the Space's token field, even left empty)
    is used as given and never replaced by them. `branch` (an existing one; default main) and `create_pr` (open a
    pull request against main; returns its URL) are huggingface_hub's create_commit `revision` and `create_pr`.
    Raises HubError with a clear message on a bad id, a folder that does not load, no token or a refused one, a
    branch the repo lacks, or no network (HubConnectionError).
    """
    check_repo_id(repo_id)
    _check_target(branch, create_pr)
    token = token if dry_run else _push_token(token)
    try:
        operations, config, _ = checkpoint_operations(folder, repo_id, subfolder, _card_revision(branch, create_pr))
    except HubError:
        raise
    except CheckpointError as e:
        raise HubError(f"not pushed: {e}") from None
    if dry_run:
        return describe(operations)
    where = f" into {subfolder}/" if subfolder else ""
    message = commit_message or f"aedemo: upload the {config['variant']} checkpoint{where}"
    return _commit(repo_id, operations, message, token, private, branch, create_pr)


def all_operations(
    root: str | Path, repo_id: str, names: tuple[str, ...] = ALL_NAMES, revision: str = constants.DEFAULT_REVISION
) -> tuple[list[CommitOperationAdd], list[str]]:
    """The commit of `--all`: each checkpoint under root/<name> in subfolder <name>, plus the root index card.

    Returns (operations, names skipped because root/<name> does not exist).
    """
    from .card import index_card

    root = Path(root)
    present = [n for n in names if (root / n).is_dir()]
    if not present:
        raise HubError(f"no checkpoint folders in {root} (looked for {', '.join(names)})")
    operations: list[CommitOperationAdd] = []
    entries: dict[str, tuple[dict, dict]] = {}
    for name in present:
        try:
            ops, config, metrics = checkpoint_operations(root / name, repo_id, name, revision)
        except CheckpointError as e:
            raise HubError(f"nothing pushed: {e}") from None
        if config["variant"] != name:
            raise HubError(f"nothing pushed: {root / name} holds a {config['variant']!r} model, not {name!r}")
        operations += ops
        entries[name] = (config, metrics)
    operations.append(CommitOperationAdd("README.md", str(index_card(repo_id, entries, revision)).encode()))
    return operations, [n for n in names if n not in present]


def push_all(
    root: str | Path | None = None, repo_id: str = "", token: str | bool | None = None, private: bool = False,
    dry_run: bool = False,
    *,
    branch: str | None = None,
    create_pr: bool | None = False,
) -> str:
    """Push every checkpoint under `root` (default: `checkpoints_root()`) into one repo, a subfolder each, as one
    commit (to `branch`, or as a pull request: as push_checkpoint)."""
    check_repo_id(repo_id)
    _check_target(branch, create_pr)
    token = token if dry_run else _push_token(token)
    operations, skipped = all_operations(root or checkpoints_root(), repo_id,
                                         revision=_card_revision(branch, create_pr))
    note = f"\n(skipped, no folder: {', '.join(skipped)})" if skipped else ""
    if dry_run:
        return describe(operations) + note
    pushed = sorted({op.path_in_repo.split("/")[0] for op in operations if "/" in op.path_in_repo})
    return _commit(repo_id, operations, f"aedemo: upload {', '.join(pushed)}", token, private, branch, create_pr) + note


# --- CLI -----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m aedemo.hub", description="Push aedemo checkpoints to the Hub.")
    sub = p.add_subparsers(dest="command", required=True)
    push = sub.add_parser("push", help="upload checkpoints (one commit)")
    what = push.add_mutually_exclusive_group(required=True)
    what.add_argument("--variant", choices=list(MODEL_CLASSES),
                      help="push <checkpoints>/<variant> (--checkpoints below)")
    what.add_argument("--all", action="store_true", help="push every checkpoint into one repo, a subfolder each")
    what.add_argument("--folder", help="push this checkpoint folder (e.g. your own training run)")
    push.add_argument("--repo-id", required=True, help="user/name (created if missing)")
    push.add_argument("--subfolder", default=None, help="put the files in this folder of the repo (not with --all)")
    push.add_argument("--checkpoints", default=None,
                      help="folder holding one folder per variant (default: $AEDEMO_CHECKPOINTS or the shipped ones)")
    push.add_argument("--private", action="store_true", help="create the repo private (an existing one is unchanged)")
    push.add_argument("--dry-run", action="store_true", help="list the files of the commit; upload nothing")
    push.add_argument("--branch", default=None, help="commit to this branch, which must exist (default: main)")
    push.add_argument("--create-pr", action="store_true", help="open a pull request against main with the commit")
    push.add_argument("--token", default=None, help="write token (default: HF_TOKEN, then the cached login; "
                      "prefer those: an argument shows in `ps` and in shell history)")
    args = p.parse_args(argv)
    use_hub_timeouts()

    if args.all and args.subfolder:
        p.error("--subfolder does not go with --all (each checkpoint goes to the subfolder named after it)")
    try:
        if args.all:
            # "~" as load_model reads it: a shell leaves --folder=~/run as typed
            root = Path(args.checkpoints).expanduser() if args.checkpoints else None
            out = push_all(root, args.repo_id, args.token, args.private, args.dry_run,
                           branch=args.branch, create_pr=args.create_pr)
        else:
            folder = Path(args.folder).expanduser() if args.folder else (
                Path(args.checkpoints or checkpoints_root()).expanduser() / args.variant)
            out = push_checkpoint(folder, args.repo_id, args.token, args.private, args.subfolder, args.dry_run,
                                  branch=args.branch, create_pr=args.create_pr)
    except (CheckpointError, DataNotFoundError, DataError) as e:  # the model card's grid reads the test digits
        hint = ""
        # where --variant looked, and how to point it elsewhere
        if isinstance(e, CheckpointError) and args.variant and not Path(folder).is_dir():
            hint = " (--variant looks in --checkpoints DIR, else $AEDEMO_CHECKPOINTS, else the shipped checkpoints/)"
        print(f"error: {scrub_token(str(e), args.token)}{hint}", file=sys.stderr)
        return 1
    done = "pushed: "
    if args.create_pr:  # the Hub opens none for a commit that changes nothing, and gives the latest commit's URL
        done = "opened a pull request: " if "/discussions/" in out else "nothing changed, no pull request opened: "
    target = " as a pull request against main" if args.create_pr else f" to branch {args.branch}" if args.branch else ""
    print((f"dry run, nothing uploaded; the commit{target} would add:\n" if args.dry_run else done) + out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
