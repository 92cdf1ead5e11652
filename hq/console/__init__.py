"""The HQ console in the browser (/console): server-rendered pages for the chain's HQ,
region and store managers (docs/chain-protocol.md, "HQ console")."""
