"""egov: a national e-government platform."""
