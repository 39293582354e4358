"""nba-mcp-deploy: a model-deployment control plane for NBA prediction models, served over MCP.

Importing the package is cheap on purpose (the MCP server must start fast): the heavy parts
(pandas, scipy, mlflow, scikit-learn) are imported only where they are used.
"""

__version__ = "0.1.0"
