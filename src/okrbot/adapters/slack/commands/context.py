"""What a command handler works with: the unit of work (services/unit_of_work.py)."""

from okrbot.services.unit_of_work import UnitOfWork as CommandContext
from okrbot.services.unit_of_work import UserResolver, resolve_nothing

__all__ = ["CommandContext", "UserResolver", "resolve_nothing"]
