/** The properties-panel module with Tovholder's group (./TovholderPropertiesProvider.jsx). */
import TovholderPropertiesProvider from './TovholderPropertiesProvider';

export default {
  __init__: ['tovholderPropertiesProvider'],
  tovholderPropertiesProvider: ['type', TovholderPropertiesProvider],
};
