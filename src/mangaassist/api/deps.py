"""FastAPI dependencies: routes get the container's services, never build their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mangaassist.access.principal import Principal
from mangaassist.bootstrap import Container
from mangaassist.catalog.service import CatalogService
from mangaassist.chat.service import ChatService

__all__ = ["CatalogDep", "ChatDep", "ContainerDep", "PrincipalDep"]


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _catalog(request: Request) -> CatalogService:
    return _container(request).catalog


ContainerDep = Annotated[Container, Depends(_container)]
CatalogDep = Annotated[CatalogService, Depends(_catalog)]


def _chat(request: Request) -> ChatService:
    return _container(request).chat


ChatDep = Annotated[ChatService, Depends(_chat)]


def _principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else Principal()


#: The caller access control admitted (anonymous when access control is off).
PrincipalDep = Annotated[Principal, Depends(_principal)]
