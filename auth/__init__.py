"""Who the caller is (tokens, principal) and what it may do (roles, policies)."""
