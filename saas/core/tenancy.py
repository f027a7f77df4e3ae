"""Tenant isolation, layer 1 (the ORM) and the hook for layer 2 (PostgreSQL row-level security).

* Every SELECT/UPDATE/DELETE touching a ``TenantScoped`` model gets ``firm_id = <tenant>`` added by
  ``with_loader_criteria``. Without a tenant on the session the query raises ``TenantContextMissing`` (fails closed).
* Deliberate cross-tenant reads opt out with ``.execution_options(all_tenants=True)``: grep for ``all_tenants``.
* ``before_flush`` stamps ``firm_id`` on new rows and refuses writes into another tenant.
* On PostgreSQL every transaction the session begins runs ``set_config('app.current_firm', …, true)`` (and the same
  for ``app.current_user``), which the RLS policies read. The app's database role owns no table and cannot bypass RLS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import abort, g
from sqlalchemy import Table, event, select, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.sql import Select
from sqlalchemy.sql.util import find_tables
from werkzeug.local import LocalProxy

from saas.models import Base
from saas.models.base import TenantScoped

T = TypeVar("T", bound=TenantScoped)

TENANT_KEY = "firm_id"
USER_KEY = "user_id"
STAFF_SCOPE_KEY = "staff_scope"


class TenantContextMissing(RuntimeError):
    """A firm-owned table was queried with no tenant set on the session."""


class CrossTenantWrite(RuntimeError):
    """A flush tried to write a firm-owned row into a tenant other than the session's."""


def set_tenant(session: Session, firm_id: uuid.UUID | None, user_id: uuid.UUID | None = None) -> None:
    """Bind ``session`` to a tenant (and user) for the ORM guard and, on PostgreSQL, for RLS right away."""
    session.info[TENANT_KEY] = firm_id
    if user_id is not None:
        session.info[USER_KEY] = user_id
    if session.in_transaction():
        _apply_db_context(session, session.connection())


def current_firm_id(session: Session) -> uuid.UUID | None:
    """Return the tenant the session is bound to, or None."""
    return session.info.get(TENANT_KEY)


_tenant_tables: tuple[int, frozenset[str]] = (0, frozenset())


def _tenant_table_names() -> frozenset[str]:
    global _tenant_tables

    mappers = Base.registry.mappers
    if _tenant_tables[0] != len(mappers):
        names = frozenset(m.class_.__tablename__ for m in mappers if issubclass(m.class_, TenantScoped))
        _tenant_tables = (len(mappers), names)
    return _tenant_tables[1]


def _touches_tenant_model(state: ORMExecuteState) -> bool:
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        return True
    # all_mappers misses entities that appear only in select_from() or a subquery, e.g. count(*) queries.
    tenant_tables = _tenant_table_names()
    found = find_tables(
        state.statement,
        check_columns=True,
        include_aliases=True,
        include_joins=True,
        include_selects=True,
        include_crud=True,
    )
    return any(isinstance(t, Table) and t.name in tenant_tables for t in found)


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # inherits the criteria of the statement that loaded the parent
    if state.execution_options.get("all_tenants", False):
        return
    if not _touches_tenant_model(state):
        return
    firm_id = state.session.info.get(TENANT_KEY)
    if firm_id is None:
        raise TenantContextMissing("query on a firm-owned table without a tenant context")
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.firm_id == firm_id, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session: Session, _flush_context: Any, _instances: Any) -> None:
    firm_id = session.info.get(TENANT_KEY)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if firm_id is None:
            raise TenantContextMissing(f"writing {type(obj).__name__} without a tenant context")
        if obj.firm_id is None and obj in session.new:
            obj.firm_id = firm_id
        elif obj.firm_id != firm_id:
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another firm")


@event.listens_for(Session, "after_begin")
def _set_db_context(session: Session, _transaction: SessionTransaction, connection: Any) -> None:
    _apply_db_context(session, connection)


def _apply_db_context(session: Session, connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    firm_id = session.info.get(TENANT_KEY)
    user_id = session.info.get(USER_KEY)
    connection.execute(
        text(
            "SELECT set_config('app.current_firm', :f, true), set_config('app.current_user', :u, true), "
            "set_config('app.staff_scope', :s, true)"
        ),
        {
            "f": str(firm_id) if firm_id else "",
            "u": str(user_id) if user_id else "",
            "s": session.info.get(STAFF_SCOPE_KEY) or "",
        },
    )


def set_staff_scope(session: Session, scope: str | None) -> None:
    """Record bureau staff's scope ('*' for the city, a county code, None for none) for RLS staff-read policies."""
    session.info[STAFF_SCOPE_KEY] = scope
    if session.in_transaction():
        _apply_db_context(session, session.connection())


@contextmanager
def acting_in_tenant(session: Session, firm_id: uuid.UUID) -> Iterator[None]:
    """Work inside another firm's tenant for one step a service has already authorised, then restore the tenant.

    Used where a buyer writes into a supplier's rows (a new inquiry, a reply) or the public page reads a supplier's
    aggregate figures. Flush before leaving: rows written here belong to ``firm_id`` and the guard refuses to flush
    them under the caller's tenant.
    """
    before = session.info.get(TENANT_KEY)
    set_tenant(session, firm_id)
    try:
        yield
        session.flush()
    finally:
        set_tenant(session, before)


def tenant_select(model: type[T]) -> Select[tuple[T]]:
    """Start a ``select`` on a firm-owned model; the guard scopes it to the current tenant."""
    return select(model)


def get_in_tenant_or_404(session: Session, model: type[T], obj_id: uuid.UUID | str, firm_id: uuid.UUID) -> T:
    """Load ``model`` by id inside ``firm_id``; another firm's row is indistinguishable from a missing one (404)."""
    try:
        key = obj_id if isinstance(obj_id, uuid.UUID) else uuid.UUID(str(obj_id))
    except ValueError:
        abort(404)
    if session.info.get(TENANT_KEY) != firm_id:
        raise CrossTenantWrite("session is bound to another tenant")
    # A query (not session.get) so the identity map never short-circuits the tenant criteria.
    obj = session.scalar(select(model).where(model.id == key, model.firm_id == firm_id))
    if obj is None:
        abort(404)
    return obj


def _current_tenant() -> Any:
    return g.get("tenant")


#: The firm of the logged-in member for this request (None outside a firm context).
current_tenant = LocalProxy(_current_tenant)
