"""Deliveries from GitHub, GitLab, Jira, Linear, scripts (/webhooks/work) and metric feeds
(/webhooks/metric): one module per tool (verify → parse into one shape), one receiver
that applies them (receive.py)."""
