"""Scoring metrics shared by the tasks."""
