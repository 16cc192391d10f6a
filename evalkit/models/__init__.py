"""Model access: the litellm gateway, the scripted offline agents and the text tool-call protocol.

litellm must never reach the network when imported; the flag is set here, before any module of this
package can import it.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")
