"""Adding music from the site, for staff: folder scans inside MUSIC_DIRS, iTunes imports and uploads, each run
as a background job whose progress the job page shows live; and the scheduled rescans of MUSIC_DIRS."""
