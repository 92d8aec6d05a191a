"""The Slack stand-in's surfaces: what ``views.*`` (modals, Home tabs), ``functions.*`` (workflow steps) and
``files.*`` (uploads) answer, over the same workspace as :mod:`bot.devtools.standin_methods`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from bot.devtools.standin_http import ApiAnswer, ApiArgs, ApiError, int_arg
from bot.devtools.standin_workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, WORKSPACE_URL, WorkspaceState


class SurfaceMethods:
    """Views, workflow-step completion and file uploads; called under the stand-in's lock, as every method."""

    def __init__(self, workspace: WorkspaceState, root_url: Callable[[], str]) -> None:
        """``root_url`` is the running server's address: upload URLs point back at it."""
        self.workspace = workspace
        self._root_url = root_url

    def table(self) -> dict[str, Callable[[ApiArgs], ApiAnswer]]:
        """These methods' names to their implementations (merged into ``WebApiMethods.table``)."""
        return {
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _views_open(self, args: ApiArgs) -> ApiAnswer:
        if not args.get("trigger_id"):
            raise ApiError("invalid_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal" or not isinstance(view.get("blocks"), list):
            raise ApiError("invalid_arguments")
        view_id = self.workspace.new_id("V")
        stored = {
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
            "hash": self.workspace.next_ts(),
            "state": {"values": {}},
        }
        self.workspace.views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, args: ApiArgs) -> ApiAnswer:
        """Replace a view by id or ``external_id``; a stale ``hash`` is refused, as Slack guards races."""
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            found = [v for v in self.workspace.views.values() if v.get("external_id") == args["external_id"]]
            view_id = found[0]["id"] if found else None
        if not view_id or view_id not in self.workspace.views:
            raise ApiError("not_found")
        current = self.workspace.views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = args.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("blocks"), list):
            raise ApiError("invalid_arguments")
        keep = {k: current[k] for k in ("id", "team_id", "app_id", "bot_id", "root_view_id", "state")}
        self.workspace.views[view_id] = {**view, **keep, "hash": self.workspace.next_ts()}
        return {"view": copy.deepcopy(self.workspace.views[view_id])}

    def _views_publish(self, args: ApiArgs) -> ApiAnswer:
        """Publish a user's Home tab: ``user_id`` and a ``view`` of type ``home``; a stale ``hash`` is refused."""
        user = str(args.get("user_id") or "")
        if user not in self.workspace.users:
            raise ApiError("invalid_arguments" if not user else "user_not_found")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "home" or not isinstance(view.get("blocks"), list):
            raise ApiError("invalid_arguments")
        if len(view["blocks"]) > 100:
            raise ApiError("invalid_arguments")
        current = self.workspace.home_views.get(user)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view_id = current["id"] if current else self.workspace.new_id("V")
        stored = {**view, "id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": BOT_ID}
        stored |= {"root_view_id": view_id, "previous_view_id": None, "state": {"values": {}}}
        stored["hash"] = self.workspace.next_ts()
        self.workspace.home_views[user] = stored
        return {"view": copy.deepcopy(stored)}

    def _function_execution(self, args: ApiArgs) -> str:
        execution = str(args.get("function_execution_id") or "")
        if not execution:
            raise ApiError("invalid_arguments")
        if execution in self.workspace.function_results:
            raise ApiError("function_execution_not_found")  # Slack: already completed
        return execution

    def _functions_complete_success(self, args: ApiArgs) -> ApiAnswer:
        """Complete a workflow step with its ``outputs`` (an object keyed by output parameter name)."""
        execution = self._function_execution(args)
        outputs = args.get("outputs")
        if isinstance(outputs, str):  # form-encoded calls carry the object as JSON text, as Slack accepts
            try:
                outputs = json.loads(outputs)
            except ValueError:
                raise ApiError("invalid_arguments") from None
        if not isinstance(outputs, dict):
            raise ApiError("invalid_arguments")
        self.workspace.function_results[execution] = {"outputs": outputs}
        return {}

    def _functions_complete_error(self, args: ApiArgs) -> ApiAnswer:
        """Fail a workflow step with an ``error`` message shown to the workflow's users."""
        execution = self._function_execution(args)
        if not args.get("error"):
            raise ApiError("invalid_arguments")
        self.workspace.function_results[execution] = {"error": str(args["error"])}
        return {}

    def _files_get_upload_url(self, args: ApiArgs) -> ApiAnswer:
        length = int_arg(args, "length", -1)
        if not args.get("filename") or length < 0:
            raise ApiError("invalid_arguments")
        file_id = self.workspace.new_id("F")
        self.workspace.pending_files[file_id] = {"name": args["filename"], "length": length}
        return {"upload_url": f"{self._root_url()}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: ApiArgs) -> ApiAnswer:
        """Finish uploads already posted to their upload URLs, and share them in the target channels."""
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        files: list[dict[str, Any]] = []
        for entry in entries:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            if file_id not in self.workspace.uploads:
                raise ApiError("file_not_found")
            name = self.workspace.pending_files[file_id]["name"]
            files.append(
                {
                    "id": file_id,
                    "name": name,
                    "title": entry.get("title") or name,
                    "size": len(self.workspace.uploads[file_id]),
                    "user": BOT_USER_ID,
                    "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{file_id}/{name}",
                }
            )
        targets = [str(args["channel_id"])] if args.get("channel_id") else []
        targets += [c for c in str(args.get("channels") or "").split(",") if c]
        for channel in [self.workspace.member_channel({"channel": target}) for target in targets]:
            message: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": args.get("initial_comment") or "",
                "ts": self.workspace.next_ts(),
                "files": copy.deepcopy(files),
                "upload": True,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self.workspace.store_message(channel, message)
        return {"files": files}
