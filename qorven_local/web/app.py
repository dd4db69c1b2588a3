"""create_app(ctx): the Falcon application with its gate, error handlers and route table."""

from __future__ import annotations

import falcon

from qorven_local.context import AppContext
from qorven_local.errors import QorvenError
from qorven_local.web import errors as web_errors
from qorven_local.web.middleware import RequestGate
from qorven_local.web.resources.agents import AgentResource, AgentsResource, RestoreBuiltinsResource
from qorven_local.web.resources.auth import LogoutResource, SignInResource
from qorven_local.web.resources.memory import (EmbeddingsResource, MemoriesResource, MemoryResource,
                                               MemorySaveResource, MemorySearchResource)
from qorven_local.web.resources.channels import channel_routes
from qorven_local.web.resources.desktop import DesktopResource, FileDialogResource, OpenFolderResource
from qorven_local.web.resources.downloads import BackupResource, MemoryExportResource
from qorven_local.web.resources.chat import ChatCompletionsResource
from qorven_local.web.resources.completions import CompletionsResource
from qorven_local.web.resources.models import (CatalogResource, DefaultModelResource, ModelResource, ModelsResource,
                                               SelectedModelsResource)
from qorven_local.web.resources.providers import ProviderConfigTestResource
from qorven_local.web.resources.providers import (ProviderDetectResource, ProviderKeysResource, ProviderResource,
                                                  ProviderModelImportResource, ProvidersResource,
                                                  ProviderTestResource)
from qorven_local.web.resources.responses import ResponseResource, ResponsesResource
from qorven_local.web.resources.rooms import room_routes
from qorven_local.web.resources.sessions import (MessageResource, MessagesResource, SessionExportResource,
                                                 SessionResource, SessionsResource)
from qorven_local.web.resources.system import (HealthResource, LivezResource, OpenAPIResource, ReadyzResource,
                                               RotateTokenResource, SettingsResource, UIFileResource,
                                               UIResource, WebSocketFallbackResource)
from qorven_local.web.resources.tokens import TokenResource, TokensResource
from qorven_local.web.resources.tools import tool_routes
from qorven_local.web.resources.documents import document_routes
from qorven_local.web.resources.mcp import mcp_routes
from qorven_local.web.spec import Route


def route_table(ctx: AppContext) -> list[Route]:
    """Every route the app serves, each resource built over the services it uses."""
    routes = [
        Route("/health", HealthResource()),
        Route("/livez", LivezResource()),
        Route("/readyz", ReadyzResource(ctx.readiness_checks)),
        Route("/v1/agents", AgentsResource(ctx.agents)),
        Route("/v1/agents/{agent_id}", AgentResource(ctx.agents)),
        Route("/v1/agents/restore-builtins", RestoreBuiltinsResource(ctx.agents)),
        Route("/v1/sessions", SessionsResource(ctx.sessions, ctx.agents)),
        Route("/v1/sessions/{session_id}", SessionResource(ctx.sessions)),
        Route("/v1/messages", MessagesResource(ctx.sessions)),
        Route("/v1/sessions/{session_id}/export", SessionExportResource(ctx.sessions)),
        Route("/v1/messages/{message_id}", MessageResource(ctx.sessions)),
        Route("/v1/settings", SettingsResource(ctx.config, ctx.db)),
        Route("/v1/auth/rotate", RotateTokenResource(ctx.tokens)),
        Route("/v1/auth/tokens", TokensResource(ctx.tokens)),
        Route("/v1/auth/tokens/{token_id}", TokenResource(ctx.tokens)),
        Route("/v1/auth/session", SignInResource(ctx.browser_sessions, ctx.access)),
        Route("/v1/auth/logout", LogoutResource(ctx.browser_sessions)),
        Route("/ws", WebSocketFallbackResource()),
        Route("/v1/memory", MemoriesResource(ctx.memory)),
        Route("/v1/memory/search", MemorySearchResource(ctx.memory)),
        Route("/v1/memory/save", MemorySaveResource(ctx.memory)),
        Route("/v1/memory/{memory_id}", MemoryResource(ctx.memory)),
        Route("/v1/embeddings", EmbeddingsResource(ctx.memory.embedder, ctx.providers)),
        Route("/v1/chat/completions", ChatCompletionsResource(
            agents=ctx.agents, sessions=ctx.sessions, model_ids=ctx.model_ids, runner=ctx.runner, clock=ctx.clock,
            ids=ctx.ids, sse_ping_s=ctx.config.sse_ping_seconds, streams=ctx.limiter.streams)),
        Route("/v1/completions", CompletionsResource(model_ids=ctx.model_ids, clock=ctx.clock, ids=ctx.ids,
                                                     sse_ping_s=ctx.config.sse_ping_seconds, streams=ctx.limiter.streams)),
        Route("/v1/responses", ResponsesResource(responses=ctx.responses, model_ids=ctx.model_ids, runner=ctx.runner,
                                                 sse_ping_s=ctx.config.sse_ping_seconds, streams=ctx.limiter.streams)),
        Route("/v1/responses/{response_id}", ResponseResource(ctx.responses)),
        Route("/v1/models", ModelsResource(ctx.model_ids)),
        Route("/v1/models/catalog", CatalogResource(ctx.providers)),
        Route("/v1/models/selected", SelectedModelsResource(ctx.providers)),
        Route("/v1/models/default", DefaultModelResource(ctx.providers)),
        Route("/v1/models/{model_id:path}", ModelResource(ctx.model_ids)),
        Route("/v1/providers", ProvidersResource(ctx.providers)),
        Route("/v1/providers/detect", ProviderDetectResource()),
        Route("/v1/providers/test", ProviderConfigTestResource(ctx.providers)),
        Route("/v1/providers/{provider_id}", ProviderResource(ctx.providers)),
        Route("/v1/providers/{provider_id}/keys", ProviderKeysResource(ctx.providers)),
        Route("/v1/providers/{provider_id}/test", ProviderTestResource(ctx.providers)),
        Route("/v1/providers/{provider_id}/models/import", ProviderModelImportResource(ctx.providers)),
        *channel_routes(ctx.channels, ctx.config.public_base_url),
        *tool_routes(ctx.tool_service),
        *room_routes(ctx.rooms, ctx.config.sse_ping_seconds, ctx.limiter.streams),
        Route("/v1/backup", BackupResource(ctx.config.db_path, ctx.config.home / "backups", ctx.clock)),
        Route("/v1/memory/export", MemoryExportResource(ctx.memory.store, ctx.clock)),
        Route("/v1/desktop", DesktopResource(ctx.file_dialogs)),
        Route("/v1/desktop/file-dialog", FileDialogResource(ctx.file_dialogs)),
        Route("/v1/desktop/open-folder", OpenFolderResource(ctx.file_dialogs, ctx.config.home,
                                                            ctx.config.models_dir)),
        *document_routes(ctx.documents),
        *mcp_routes(ctx.mcp_endpoint, ctx.mcp),
        Route("/", UIResource()),
        Route("/ui/{path:path}", UIFileResource()),
    ]
    # The document describes the whole table, itself included.
    routes.append(Route("/openapi.json", OpenAPIResource(routes)))
    return routes


def create_app(ctx: AppContext) -> falcon.App:
    """The WSGI app over a built AppContext (which it only reads)."""
    gate = RequestGate(ctx.access, ctx.limiter, ctx.ids, ctx.config.max_body_bytes, ctx.config.max_upload_bytes)
    app = falcon.App(middleware=[gate], cors_enable=False)
    app.req_options.auto_parse_form_urlencoded = False
    app.req_options.strip_url_path_trailing_slash = True
    app.resp_options.secure_cookies_by_default = True
    for route in route_table(ctx):
        app.add_route(route.path, route.resource)
    app.add_error_handler(Exception, web_errors.handle_unexpected)
    app.add_error_handler(falcon.HTTPError, web_errors.handle_http_error)
    app.add_error_handler(QorvenError, web_errors.handle_qorven_error)
    return app
