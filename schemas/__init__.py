"""Metadata as data: the template catalog, its structure, label and region aliases, the table
registry (tables/), the site list and agency kinds. Shipped as package data, read through
`gknb.paths`."""
