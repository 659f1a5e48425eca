-- Runs once, when the PostgreSQL volume is first created (the postgres image's init hook).
-- Dagster's instance storage lives in POSTGRES_DB (dagster); the business store gets its own
-- database, so each can be backed up, restored and granted separately.
CREATE DATABASE negotiation;
