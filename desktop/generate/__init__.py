"""Generation from the studio: the engine bridge (client events -> Qt signals), the generate panel, the job queue."""
