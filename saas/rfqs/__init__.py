"""Requests for quotation: buyers ask, suppliers in the matching category quote, the buyer accepts one."""
