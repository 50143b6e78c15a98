"""A branch's traffic by the hour: learnt from the legs its teams drove (calibrations), applied when it plans."""
