from django.db import models


class ClusterStat(models.Model):
    """The last status a running `qcluster` reported (django-q2's Stat), kept where every process can read it.

    django-q2 keeps these in Django's cache, which is private to each process unless a shared cache is set up;
    here they live in the database, so the web process sees the worker's heartbeat.
    """

    key = models.CharField(max_length=200, primary_key=True)  # django-q2's stat key, unique per cluster run
    host = models.CharField(max_length=255)
    sentinel_pid = models.IntegerField()
    worker_pids = models.JSONField(default=list)
    status = models.CharField(max_length=20)
    packed = models.TextField()  # the signed Stat exactly as django-q2 packs it
    seen = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.host}:{self.sentinel_pid} {self.status}"


class JobLease(models.Model):
    """Which cluster took a job from the database queue, and which of its worker processes runs it.

    A job whose holder has stopped (the cluster is gone, or the worker running it died) is put back in the
    queue at once instead of waiting for django-q2's retry time.
    """

    job = models.OneToOneField("django_q.OrmQ", primary_key=True, on_delete=models.CASCADE, related_name="+")
    func = models.CharField(max_length=256, blank=True)
    group = models.CharField(max_length=100, blank=True)
    cluster_key = models.CharField(max_length=200)
    host = models.CharField(max_length=255)
    sentinel_pid = models.IntegerField()
    worker_pid = models.IntegerField(null=True)
    taken = models.DateTimeField()
    started = models.DateTimeField(null=True)
    deliveries = models.PositiveIntegerField(default=1)

    def __str__(self):
        return f"job {self.job_id} held by {self.host}:{self.sentinel_pid}"
