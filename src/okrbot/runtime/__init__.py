"""The processes: the server, the inbox workers, the scheduler and its ticks."""
