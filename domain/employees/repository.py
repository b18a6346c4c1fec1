"""Persistence of employees."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from domain.employees.models import Employee, EmployeeRole
from domain.store import Database, Document, IndexSpec


class EmployeeRepository:
    """Employees, found by id or by region and role."""

    collection_name = "employees"

    def __init__(self, db: Database) -> None:
        self._collection = db[self.collection_name]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(cls.collection_name, (("regions", 1), ("role", 1)))]

    @staticmethod
    def to_document(employee: Employee) -> Document:
        return {
            "_id": employee.id,
            "name": employee.name,
            "email": employee.email,
            "role": employee.role.value,
            "regions": list(employee.regions),
            "team": employee.team,
            "managerId": employee.manager_id,
        }

    @staticmethod
    def from_document(document: Document) -> Employee:
        return Employee(
            id=document["_id"],
            name=document["name"],
            email=document["email"],
            role=EmployeeRole(document["role"]),
            regions=tuple(document.get("regions", ())),
            team=document.get("team", ""),
            manager_id=document.get("managerId"),
        )

    async def insert_many(self, employees: Iterable[Employee]) -> None:
        documents = [self.to_document(e) for e in employees]
        if documents:
            await self._collection.insert_many(documents, ordered=False)

    @classmethod
    def lookup(cls, into: str, *, local_field: str) -> Document:
        """A ``$lookup`` stage: the employees whose ids ``local_field`` holds (one id or an array of them)."""
        spec = {"from": cls.collection_name, "localField": local_field, "foreignField": "_id", "as": into}
        return {"$lookup": spec}

    async def get_many(self, ids: Sequence[str]) -> dict[str, Employee]:
        """The employees with these ids that exist, by id."""
        return {
            d["_id"]: self.from_document(d) async for d in self._collection.find({"_id": {"$in": list(ids)}})
        }

    async def in_region(self, region: str, role: EmployeeRole) -> list[Employee]:
        """The employees of ``role`` working in ``region``, by id."""
        query = {"regions": region, "role": role.value}
        return sorted([self.from_document(d) async for d in self._collection.find(query)], key=lambda e: e.id)

    async def regions(self) -> list[str]:
        """Every region some employee works in, in order."""
        found: set[str] = set()
        async for document in self._collection.find({}, {"regions": 1}):
            found.update(document.get("regions", ()))
        return sorted(found)
