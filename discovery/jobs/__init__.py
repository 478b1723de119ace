"""The job queue's bookkeeping: which cluster holds which queued job, and every cluster's last heartbeat."""
