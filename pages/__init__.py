"""Pages for people: the online booking page and the data-subject portal.

The pages are shells: a template with the texts of one language and first-party
JavaScript that calls the public ``POST /graphql`` endpoint, exactly as any
other client does. They read no data on the server, so they need no
authorization of their own; every rule of the API holds for them because the
API is all they use (see ``pages.routes.AUTHORIZATION``).
"""
