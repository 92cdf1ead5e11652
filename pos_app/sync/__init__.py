"""The till's side of sync (docs/sync-protocol.md): what goes up to HQ and how.

- `client`: signed HTTPS requests to HQ, network faults and HQ's refusals as coded errors;
- `outbox`: what HQ does not hold yet (ledger entries after its head, changed rows);
- `pusher`: `push(ctx)`, sending it in batches and recording HQ's acknowledgements;
- `status`: `sync_status(ctx)`, cheap enough for the status bar to poll.

Nothing here imports Qt; the app's background agent and the CLI both call `push`.
"""
