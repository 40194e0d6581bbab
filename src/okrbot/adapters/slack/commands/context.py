"""What a command handler works with: the unit of work (services/unit_of_work.py)."""

from okrbot.services.unit_of_work import UnitOfWork as CommandContext

__all__ = ["CommandContext"]
