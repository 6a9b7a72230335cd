"""What HQ's people call with a token: transactions, clips, audit, accounts."""
