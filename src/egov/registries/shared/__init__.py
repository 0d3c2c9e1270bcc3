"""What the three base registries share: the access log and outbox models, the guard every
service view passes, and the OpenAPI documents' building blocks."""
