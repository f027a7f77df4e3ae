"""Inquiry threads between a buyer and a supplier about one product, and the supplier's responsiveness figures."""
