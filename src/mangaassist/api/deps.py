"""FastAPI dependencies: routes get the container's services, never build their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mangaassist.bootstrap import Container
from mangaassist.catalog.service import CatalogService
from mangaassist.chat.service import ChatService

__all__ = ["CatalogDep", "ChatDep", "ContainerDep"]


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
