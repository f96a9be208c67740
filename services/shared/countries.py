"""Where a workshop may be established: the EU member states, the EEA, Switzerland and the UK."""
EU = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
      "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
SUPPORTED = EU + ("IS", "LI", "NO", "CH", "GB")
