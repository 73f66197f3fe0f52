"""IDL2xx: journaled actions (`ctx.run_typed` / `ctx.run`) used in ways that break on replay."""
