"""gunicorn's settings on every app machine: /etc/oms/gunicorn.conf.py (docs/operations.md, "Deploying on
separate machines"). tests/replication/test_deploy_files.py has gunicorn check it."""

import multiprocessing

# Only the load balancer reaches this port (the machine's firewall); it adds X-Forwarded-For: PROXY_HOPS=1.
bind = "0.0.0.0:8000"
# The app is CPU-bound: one sync worker per core, and one more for the waits on the network (docs/scaling.md).
workers = multiprocessing.cpu_count() + 1
worker_class = "sync"
# The workers' heartbeat files: on a disk-backed /tmp they throttle every request (docs/scaling.md).
worker_tmp_dir = "/dev/shm"  # noqa: S108 -- gunicorn makes its files there itself, 0600
timeout = 30
graceful_timeout = 30
# No access log: paths carry ЕНП (/insurer/person/<enp>), which is personal data. The app logs its own
# events without it; the load balancer keeps request counts and timings.
accesslog = None
errorlog = "-"
loglevel = "info"
