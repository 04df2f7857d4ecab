"""Snapshots: the files on disk (store), taking them (dump), restoring them (restore).
"""
