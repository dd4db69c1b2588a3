"""create_app(ctx): the Falcon application with its gate, error handlers and route table."""

from __future__ import annotations

from typing import Any, Callable

import falcon

from qorven_local.errors import QorvenError
from qorven_local.security.access import AccessPolicy
from qorven_local.web import errors as web_errors
from qorven_local.web.middleware import RequestGate
from qorven_local.web.resources.agents import AgentResource, AgentsResource
from qorven_local.web.resources.memory import (EmbeddingsResource, MemoriesResource, MemoryResource,
                                               MemorySaveResource, MemorySearchResource)
from qorven_local.web.resources.channels import channel_routes
from qorven_local.web.resources.chat import ChatCompletionsResource
from qorven_local.web.resources.models import (CatalogResource, DefaultModelResource, ModelResource, ModelsResource,
                                               SelectedModelsResource)
from qorven_local.web.resources.providers import (ProviderDetectResource, ProviderKeysResource, ProviderResource,
                                                  ProviderModelImportResource, ProvidersResource,
                                                  ProviderTestResource)
from qorven_local.web.resources.rooms import room_routes
from qorven_local.web.resources.sessions import MessagesResource, SessionResource, SessionsResource
from qorven_local.web.resources.system import (HealthResource, LivezResource, OpenAPIResource, ReadyzResource,
                                               RotateTokenResource, SettingsResource, UIFileResource,
                                               UIResource, WebSocketFallbackResource)
from qorven_local.web.resources.tools import tool_routes
from qorven_local.web.spec import Route, build_openapi

# Other parts add their routes by appending a function (ctx) -> list[Route] here.
ROUTE_PROVIDERS: list[Callable[[Any], list[Route]]] = [channel_routes]
ROUTE_PROVIDERS += [tool_routes, room_routes]


def core_routes(ctx) -> list[Route]:
    return [
        Route("/health", HealthResource()),
        Route("/livez", LivezResource()),
        Route("/readyz", ReadyzResource(ctx)),
        Route("/v1/agents", AgentsResource(ctx.agents)),
        Route("/v1/agents/{agent_id}", AgentResource(ctx.agents)),
        Route("/v1/sessions", SessionsResource(ctx.sessions, ctx.agents)),
        Route("/v1/sessions/{session_id}", SessionResource(ctx.sessions)),
        Route("/v1/messages", MessagesResource(ctx.sessions)),
        Route("/v1/settings", SettingsResource(ctx)),
        Route("/v1/auth/rotate", RotateTokenResource(ctx)),
        Route("/ws", WebSocketFallbackResource()),
        Route("/v1/memory", MemoriesResource(ctx)),
        Route("/v1/memory/search", MemorySearchResource(ctx)),
        Route("/v1/memory/save", MemorySaveResource(ctx)),
        Route("/v1/memory/{memory_id}", MemoryResource(ctx)),
        Route("/v1/embeddings", EmbeddingsResource(ctx)),
        Route("/v1/chat/completions", ChatCompletionsResource(
            agents=ctx.agents, sessions=ctx.sessions, model_ids=ctx.model_ids, runner=ctx.runner, clock=ctx.clock,
            ids=ctx.ids, sse_ping_s=lambda: ctx.sse_ping_s)),
        Route("/v1/models", ModelsResource(ctx)),
        Route("/v1/models/catalog", CatalogResource(ctx)),
        Route("/v1/models/selected", SelectedModelsResource(ctx)),
        Route("/v1/models/default", DefaultModelResource(ctx)),
        Route("/v1/models/{model_id:path}", ModelResource(ctx)),
        Route("/v1/providers", ProvidersResource(ctx)),
        Route("/v1/providers/detect", ProviderDetectResource(ctx)),
        Route("/v1/providers/{provider_id}", ProviderResource(ctx)),
        Route("/v1/providers/{provider_id}/keys", ProviderKeysResource(ctx)),
        Route("/v1/providers/{provider_id}/test", ProviderTestResource(ctx)),
        Route("/v1/providers/{provider_id}/models/import", ProviderModelImportResource(ctx)),
    ]


def create_app(ctx) -> falcon.App:
    """The WSGI app over a built AppContext."""
    policy = AccessPolicy(ctx.tokens, ctx.config.allowed_hosts, ctx.config.host)
    ctx.access = policy
    app = falcon.App(middleware=[RequestGate(ctx, policy, ctx.limiter)], cors_enable=False)
    app.req_options.auto_parse_form_urlencoded = False
    app.req_options.strip_url_path_trailing_slash = True
    app.resp_options.secure_cookies_by_default = True
    routes = core_routes(ctx)
    for provider in ROUTE_PROVIDERS:
        routes.extend(provider(ctx))
    routes.append(Route("/", UIResource()))
    routes.append(Route("/ui/{path:path}", UIFileResource()))
    openapi = OpenAPIResource(lambda: build_openapi(routes))
    routes.append(Route("/openapi.json", openapi))
    for route in routes:
        app.add_route(route.path, route.resource)
    app.add_error_handler(Exception, web_errors.handle_unexpected)
    app.add_error_handler(falcon.HTTPError, web_errors.handle_http_error)
    app.add_error_handler(QorvenError, web_errors.handle_qorven_error)
    ctx.routes = routes
    return app
