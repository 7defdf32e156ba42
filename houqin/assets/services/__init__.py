"""Write paths of the assets app (architecture §4.1): views, API, imports and jobs all call these."""
