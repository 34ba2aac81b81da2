"""Where the market-making obligations come from."""

CIRCULAR = "Circular on affiliated market makers"
