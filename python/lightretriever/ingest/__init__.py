"""Ingestion: sources -> validation -> (passages) -> encoding -> bulk writes, with dead letters and checkpoints.

The entry point is `lightretriever.ingest.job.IngestJob`; each step lives in its own module.
"""
