"""GraphQL view of managed lists: reading them (whoever builds forms or reads codes), changing them."""
