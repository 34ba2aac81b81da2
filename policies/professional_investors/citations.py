"""Where the professional-investor obligations come from."""

PI_RULES = "Securities and Futures (Professional Investor) Rules, Cap. 571D"
PERPETUALS_FRAMEWORK = "High-Level Framework for VATPs offering VA perpetual contracts"
