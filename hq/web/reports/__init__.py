"""Report pages: monthly figures, charts, the inputs behind them."""
