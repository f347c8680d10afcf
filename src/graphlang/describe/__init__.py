"""Self-description: ``$metadata`` (CSDL), the OData service document, and the OpenAPI document."""
