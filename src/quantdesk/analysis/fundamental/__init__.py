"""Fundamental analysis: point-in-time statements to ratios, quality scores (Piotroski F, Altman Z,
Beneish M), valuation (DCF, comparables), growth, factor exposure, and the composite score."""
