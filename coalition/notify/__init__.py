"""Notifications: email, webhooks and in-app messages."""
